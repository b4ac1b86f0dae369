package podcontrol

import (
	"context"
	"sync"
)

// SlowStart calls fn count times in batches of initial, 2*initial, 4*initial
// ... calls running in parallel, and stops after the first batch with an
// error. It returns how many calls succeeded and the first error. A quota
// or admission failure thus costs one call instead of count, while a
// healthy burst still finishes in a logarithmic number of round trips.
func SlowStart(ctx context.Context, count, initial int, fn func(context.Context) error) (int, error) {
	done := 0
	for batch := min(count, max(initial, 1)); batch > 0; batch = min(2*batch, count-done) {
		errs := make(chan error, batch)
		var wg sync.WaitGroup
		for range batch {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := fn(ctx); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		done += batch - len(errs)
		if err, failed := <-errs; failed {
			return done, err
		}
		if err := ctx.Err(); err != nil {
			return done, err
		}
	}
	return done, nil
}
