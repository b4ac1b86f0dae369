package garbagecollector_test

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/metadata"

	"github.com/navarch/navarch/internal/testutil/testserver"
)

// TestMetadataWatchBookmarks: the collector's informers watch metadata
// only, with bookmarks; a bookmark must arrive as PartialObjectMetadata
// (the server once sent the resource's own kind, which broke every such
// watch at the first bookmark, ten seconds in).
func TestMetadataWatchBookmarks(t *testing.T) {
	t.Parallel()
	env := testserver.Start(t)
	md := metadata.NewForConfigOrDie(env.Config)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w, err := md.Resource(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}).Namespace("").
		Watch(ctx, metav1.ListOptions{AllowWatchBookmarks: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatal("watch closed before a bookmark")
			}
			switch ev.Type {
			case watch.Error:
				t.Fatalf("watch error: %v", ev.Object)
			case watch.Bookmark:
				if pm, ok := ev.Object.(*metav1.PartialObjectMetadata); !ok || pm.ResourceVersion == "" {
					t.Fatalf("bookmark %T %+v", ev.Object, ev.Object)
				}
				return
			}
		case <-ctx.Done():
			t.Fatal("no bookmark within 30 s")
		}
	}
}
