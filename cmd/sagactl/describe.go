package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// describe prints the timeline of one saga.
func (a *app) describe(ctx context.Context, f *flags) error {
	c, ns, err := connect(f)
	if err != nil {
		return err
	}
	obj, err := getSaga(ctx, c, ns, f.name)
	if err != nil {
		return err
	}
	events, err := sagaEvents(ctx, c, obj)
	if err != nil {
		return err
	}
	if err := renderDescribe(a.stdout, obj, events, a.now()); err != nil {
		return fmt.Errorf("write the timeline: %w", err)
	}
	return nil
}

// getSaga reads one saga; a missing one is a failure (exit 1), not a connection error.
func getSaga(ctx context.Context, c client.Client, ns, name string) (*v1.OrderSaga, error) {
	obj := &v1.OrderSaga{}
	err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj)
	switch {
	case apierrors.IsNotFound(err):
		return nil, failure("ordersaga %q not found in namespace %q", name, ns)
	case err != nil:
		return nil, fmt.Errorf("get ordersaga %s/%s: %w", ns, name, err)
	}
	return obj, nil
}

// sagaEvents lists the events.k8s.io/v1 Events about obj (regarding.name, kind and UID),
// sorted by time.
func sagaEvents(ctx context.Context, c client.Client, obj *v1.OrderSaga) ([]eventsv1.Event, error) {
	var out []eventsv1.Event
	for cont := ""; ; {
		l := &eventsv1.EventList{}
		err := c.List(ctx, l, client.InNamespace(obj.Namespace), client.MatchingFields{"regarding.name": obj.Name},
			client.Limit(500), client.Continue(cont))
		if err != nil {
			return nil, fmt.Errorf("list the events of ordersaga %s/%s: %w", obj.Namespace, obj.Name, err)
		}
		for _, e := range l.Items {
			r := e.Regarding
			if r.Kind == "OrderSaga" && (r.UID == "" || r.UID == obj.UID) {
				out = append(out, e)
			}
		}
		if cont = l.Continue; cont == "" {
			break
		}
	}
	slices.SortStableFunc(out, func(x, y eventsv1.Event) int {
		return cmp.Or(eventTime(x).Compare(eventTime(y)), cmp.Compare(x.Name, y.Name))
	})
	return out, nil
}

// eventTime is when an Event last happened: its series' last observation, else its
// eventTime, else the deprecated timestamps, else its creation.
func eventTime(e eventsv1.Event) time.Time {
	switch {
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	case !e.DeprecatedLastTimestamp.IsZero():
		return e.DeprecatedLastTimestamp.Time
	}
	return e.CreationTimestamp.Time
}
