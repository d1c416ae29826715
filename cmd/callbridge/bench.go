package main

import (
	"context"
	"errors"
)

// BenchCommand measures callbridge (see bench.go).
type BenchCommand struct{}

// Run is being written.
func (c *BenchCommand) Run(ctx context.Context, args []string) error {
	return errors.New("bench: not implemented yet")
}
