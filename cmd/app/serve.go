package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/palantir/go-githubapp/githubapp"
	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/config"
	"github.com/daytwo-dev/daytwo/internal/handler"
	"github.com/daytwo-dev/daytwo/internal/ops"
	"github.com/daytwo-dev/daytwo/internal/server"
)

func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", os.Getenv("DAYTWO_CONFIG"), "server config file (YAML); env DAYTWO_CONFIG")
	if err := fs.Parse(args); err != nil {
		return exitUser
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "daytwo serve: unexpected argument %q\n", fs.Arg(0))
		return exitUser
	}
	cfg, err := config.Load(*path, os.LookupEnv)
	if err != nil {
		fmt.Fprintf(stderr, "daytwo serve: %v\n", err)
		return exitUser
	}
	log := newLogger(cfg.Log, stderr)
	var runner *ops.Runner
	srv, err := server.New(cfg, log, func(c githubapp.ClientCreator) ([]githubapp.EventHandler, error) {
		var rerr error
		if runner, rerr = ops.New(cfg, c, nil); rerr != nil {
			return nil, rerr
		}
		return handler.New(c, runner)
	})
	if err != nil {
		log.Error().Err(err).Msg("cannot start")
		return exitInternal
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	// Rollouts a previous run was following when it stopped are followed again.
	go func() {
		if err := runner.Resume(log.WithContext(ctx)); err != nil {
			log.Warn().Err(err).Msg("cannot resume the rollouts being followed")
		}
	}()
	select {
	case err := <-errc:
		if err != nil {
			log.Error().Err(err).Msg("server stopped")
			return exitInternal
		}
		return exitOK
	case <-ctx.Done():
	}
	log.Info().Msg("shutting down: no new deliveries, draining the queue")
	sctx, cancel := context.WithTimeout(context.Background(), time.Duration(cfg.ShutdownTimeout))
	defer cancel()
	err = srv.Shutdown(sctx)
	runner.Close() // rollouts being followed stay marked; the next start resumes them
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Error().Err(err).Msg("unclean shutdown")
		return exitInternal
	}
	return exitOK
}

func newLogger(c config.Log, w io.Writer) zerolog.Logger {
	level, err := zerolog.ParseLevel(c.Level)
	if err != nil {
		level = zerolog.InfoLevel
	}
	if c.Format == "text" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.RFC3339}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Str("service", "daytwo").Logger()
}

func version() string { return server.Version }
