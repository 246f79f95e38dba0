package main

import (
	"bufio"
	"io"
	stdlog "log"
	"os"
	"strings"

	"github.com/rs/zerolog"
	"github.com/sirupsen/logrus"
)

// routeLogrus sends what argo-cd's packages log through logrus's standard logger, which
// writes to the process's standard error (the ApplicationSet generators log every repository
// listing, and every generator discovery skips, as an error), to log at debug level: daytwo
// returns and reports those outcomes itself.
func routeLogrus(log zerolog.Logger) {
	std := logrus.StandardLogger()
	std.SetOutput(io.Discard)
	hooks := logrus.LevelHooks{}
	hooks.Add(logrusHook{log})
	std.ReplaceHooks(hooks)
}

type logrusHook struct{ log zerolog.Logger }

func (logrusHook) Levels() []logrus.Level { return logrus.AllLevels }

func (h logrusHook) Fire(e *logrus.Entry) error {
	ev := h.log.Debug().Str("source", "argo-cd").Str("level_argo", e.Level.String())
	for k, v := range e.Data {
		ev = ev.Interface(k, v)
	}
	ev.Msg(e.Message)
	return nil
}

// logStderr turns what libraries write to standard error or the standard logger into log
// entries: kustomize prints its deprecation warnings with fmt.Fprintf(os.Stderr), which would
// otherwise be plain lines inside the JSON log stream. The logger itself must write to the
// original standard error. The returned function restores both and waits for the last line.
func logStderr(log zerolog.Logger) (restore func(), err error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	orig, origLog, origFlags := os.Stderr, stdlog.Writer(), stdlog.Flags()
	os.Stderr = w
	stdlog.SetOutput(w)
	stdlog.SetFlags(0) // the entry has its own time
	done := make(chan struct{})
	go func() {
		defer close(done)
		br := bufio.NewReader(r)
		for {
			line, err := br.ReadString('\n')
			if line = strings.TrimSpace(line); line != "" {
				log.Warn().Str("source", "stderr").Msg(strings.TrimPrefix(line, "# "))
			}
			if err != nil {
				return
			}
		}
	}()
	return func() {
		os.Stderr = orig
		stdlog.SetOutput(origLog)
		stdlog.SetFlags(origFlags)
		w.Close()
		<-done
		r.Close()
	}, nil
}
