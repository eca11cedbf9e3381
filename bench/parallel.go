//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// forEachBounded calls do(i) for i from 0 to n-1, at most par at a time,
// and returns what each call returned, by i. Once ctx is done it starts no
// more calls: the first call it did not start says how many were not tried.
func forEachBounded(ctx context.Context, n, par int, do func(i int) error) []error {
	errs := make([]error, n)
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		if ctx.Err() != nil {
			<-sem
			errs[i] = fmt.Errorf("%d connections not tried: %w", n-i, ctx.Err())
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = do(i)
		})
	}
	wg.Wait()
	return errs
}

// firstErrors joins at most n of errs and says how many more there were.
func firstErrors(errs []error, n int) error {
	var out []error
	more := 0
	for _, e := range errs {
		if e == nil {
			continue
		}
		if len(out) < n {
			out = append(out, e)
		} else {
			more++
		}
	}
	if more > 0 {
		out = append(out, fmt.Errorf("and %d more errors", more))
	}
	return errors.Join(out...)
}
