package main

import (
	"bufio"
	stdlog "log"
	"os"
	"strings"

	"github.com/rs/zerolog"
)

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
