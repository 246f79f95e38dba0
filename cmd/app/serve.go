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

	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/config"
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
	routeLogrus(log)
	if stderr == os.Stderr {
		restore, err := logStderr(log)
		if err != nil {
			fmt.Fprintf(stderr, "daytwo serve: %v\n", err)
			return exitInternal
		}
		defer restore()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d, err := server.Build(ctx, cfg, log, nil)
	if err != nil {
		log.Error().Err(err).Msg("cannot start")
		return exitInternal
	}

	errc := make(chan error, 1)
	go func() { errc <- d.ListenAndServe() }()
	// The leader (this process, without Redis) follows again the rollouts a previous run
	// was following when it stopped.
	d.Lead()
	select {
	case err := <-errc:
		if err != nil {
			log.Error().Err(err).Msg("server stopped")
			return exitInternal
		}
		return exitOK
	case <-ctx.Done():
	}
	log.Info().Msg("shutting down: no new deliveries, finishing those under way")
	sctx, cancel := context.WithTimeout(context.Background(), time.Duration(cfg.ShutdownTimeout))
	defer cancel()
	err = d.Stop(sctx) // rollouts being followed stay marked; the next leader resumes them
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
