package serviceaccount_test

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/navarch/navarch/internal/controllers/serviceaccount"
	"github.com/navarch/navarch/internal/testutil/testserver"
)

func TestDefaultServiceAccount(t *testing.T) {
	env := testserver.Start(t)
	// A namespace that exists before the controller starts is covered too.
	before := env.Namespace(t, "before")
	ctx, cancel := context.WithCancel(context.Background())
	cc, start := env.ControllerContext(t, ctx)
	ctl, err := serviceaccount.New(cc)
	if err != nil {
		t.Fatal(err)
	}
	start()
	done := make(chan struct{})
	go func() { defer close(done); _ = ctl.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	after := env.Namespace(t, "after")
	c := env.Client.CoreV1()
	for _, ns := range []string{before, after, "default", "kube-system"} {
		testserver.Eventually(t, 30*time.Second, "default service account in "+ns, func() (bool, error) {
			_, err := c.ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
			return err == nil, err
		})
	}
	old, _ := c.ServiceAccounts(after).Get(ctx, "default", metav1.GetOptions{})
	if err := c.ServiceAccounts(after).Delete(ctx, "default", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testserver.Eventually(t, 30*time.Second, "default service account recreated", func() (bool, error) {
		sa, err := c.ServiceAccounts(after).Get(ctx, "default", metav1.GetOptions{})
		return err == nil && sa.UID != old.UID, err
	})
	list, err := c.ServiceAccounts(after).List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 1 {
		t.Errorf("accounts in %s: %v %d, want exactly the default one", after, err, len(list.Items))
	}
}
