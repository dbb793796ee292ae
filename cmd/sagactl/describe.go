package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// describe prints the timeline of one saga.
func (a *app) describe(ctx context.Context, f *flags) error {
	c, ns, err := connect(f)
	if err != nil {
		return err
	}
	t, err := getSaga(ctx, c, f.kind, ns, f.name)
	if err != nil {
		return err
	}
	events, err := sagaEvents(ctx, c, t)
	if err != nil {
		return err
	}
	if err := renderDescribe(a.stdout, t, events, a.now()); err != nil {
		return fmt.Errorf("write the timeline: %w", err)
	}
	return nil
}

// sagaEvents lists the events.k8s.io/v1 Events about the saga (regarding.name, kind and
// UID), sorted by time.
func sagaEvents(ctx context.Context, c client.Client, t *target) ([]eventsv1.Event, error) {
	obj := t.obj
	var out []eventsv1.Event
	for cont := ""; ; {
		l := &eventsv1.EventList{}
		err := c.List(ctx, l, client.InNamespace(obj.GetNamespace()), client.MatchingFields{"regarding.name": obj.GetName()},
			client.Limit(500), client.Continue(cont))
		if err != nil {
			return nil, fmt.Errorf("list the events of %s %s/%s: %w", t.kind.name, obj.GetNamespace(), obj.GetName(), err)
		}
		for _, e := range l.Items {
			r := e.Regarding
			if r.Kind == t.kind.apiKind && (r.UID == "" || r.UID == obj.GetUID()) {
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
