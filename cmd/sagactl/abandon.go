package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
)

// abandon gives up on a Failed saga: after the person confirms what will be left undone,
// it deletes the saga (if nobody has yet) and sets the abandon annotation, then waits for
// the operator to record the list and release the finalizer. Deletion comes first because
// the operator refuses the annotation on a saga that is not being deleted.
func (a *app) abandon(ctx context.Context, f *flags) error {
	c, t, err := loadFailedSaga(ctx, f, "abandon only gives up on")
	if err != nil {
		return err
	}
	plan, err := t.plan(ctx, c)
	if err != nil {
		return err
	}
	obj, name := t.obj, t.kind.name
	key, uid := client.ObjectKeyFromObject(obj), obj.GetUID()
	a.printUndone(name, key, saga.LeftUndone(plan, string(uid), &t.run))
	if !f.yes && !a.confirm(fmt.Sprintf("Abandon %s %s and leave this undone? [y/N] ", name, key)) {
		return failure("%s %s was not abandoned", name, key)
	}
	if obj.GetDeletionTimestamp().IsZero() {
		if err := c.Delete(ctx, obj, client.Preconditions{UID: &uid}); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("delete %s %s: %w", name, key, err)
		}
	}
	token := a.now().UTC().Format(time.RFC3339Nano)
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"uid": uid, "annotations": map[string]string{v1.AbandonAnnotation: token}}})
	if err != nil {
		return fmt.Errorf("encode the abandon patch: %w", err)
	}
	if err := c.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return fmt.Errorf("set %s on %s %s: %w", v1.AbandonAnnotation, name, key, err)
	}
	fmt.Fprintf(a.stdout, "%s %s: deleted, and set %s=%s; waiting up to %s\n", name, key, v1.AbandonAnnotation, token, f.wait)
	return waitUntilGone(ctx, c, t.kind, key, a.pollEvery(f.wait), a.stdout)
}

func (a *app) printUndone(kind string, key client.ObjectKey, undone []v1.UndoneStep) {
	if len(undone) == 0 {
		fmt.Fprintf(a.stdout, "%s %s: every compensation succeeded; nothing will be left undone.\n", kind, key)
		return
	}
	fmt.Fprintf(a.stdout, "%s %s will leave undone:\n", kind, key)
	for _, u := range undone {
		fmt.Fprintf(a.stdout, "  %-17s %-12s id %-40s key %s\n", u.Name, u.State, orDash(u.ResourceID), u.IdempotencyKey)
		if u.CompensationError != "" {
			fmt.Fprintf(a.stdout, "  %-17s last undo error: %s\n", "", u.CompensationError)
		}
	}
}

// confirm asks question on stdout and reports whether the answer on stdin is yes. No
// answer (end of input, as from a script without --yes) is no.
func (a *app) confirm(question string) bool {
	fmt.Fprint(a.stdout, question)
	line, err := bufio.NewReader(a.stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return false
	}
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes"
}

// waitUntilGone polls until the saga no longer exists, which is how the operator says
// that it recorded what is left undone and released the finalizer.
func waitUntilGone(ctx context.Context, c client.Client, k *sagaKind, key client.ObjectKey, p poll, out io.Writer) error {
	wait := p.wait
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	tick := time.NewTicker(p.every)
	defer tick.Stop()
	for {
		_, err := k.read(ctx, c, key)
		if apierrors.IsNotFound(err) {
			fmt.Fprintf(out, "%s %s abandoned; the list is in its Abandoned Warning Event (kubectl events --for %s/%s)\n", k.name, key, k.name, key.Name)
			return nil
		} // any other error is transient here: the next poll tries again until the wait runs out
		select {
		case <-ctx.Done():
			return failure("%s %s still exists after %s; is the operator running?", k.name, key, wait)
		case <-tick.C:
		}
	}
}
