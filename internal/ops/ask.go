package ops

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	gh "github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"

	"github.com/daytwo-dev/daytwo/internal/ai"
	"github.com/daytwo-dev/daytwo/internal/clip"
	"github.com/daytwo-dev/daytwo/internal/command"
	"github.com/daytwo-dev/daytwo/internal/githubapi"
	"github.com/daytwo-dev/daytwo/internal/markdown"
	"github.com/daytwo-dev/daytwo/internal/repoconfig"
	"github.com/daytwo-dev/daytwo/internal/report"
)

// aiVerbs are the commands the model may suggest: the ones that help with a service in
// trouble, and the read-only ones that look further.
var aiVerbs = []string{"rollback", "restart", "sync", "refresh", "scale", "promote", "resume", "set-image", "status", "history", "diff"}

// askFact is one read-only command whose answer is a fact of /ask, and that answer.
type askFact struct {
	cmd  command.Command
	view *report.View
}

// ask answers /ask: what /status, /history and /diff show of the service, under an
// AI-written answer from those facts alone when an AI endpoint is configured.
func (r *Runner) ask(ctx context.Context, client *gh.Client, req Request, cmd command.Command, st *statusComment) {
	t, resolved, ok := r.readable(ctx, client, req, cmd, func(cfg *repoconfig.Config, c command.Command) command.Command {
		return askTarget(cfg, c, req.Labels)
	}, st)
	if !ok {
		return
	}
	facts := askCommands(t.cfg, resolved)
	errs := make([]error, len(facts))
	var wg sync.WaitGroup
	for i := range facts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			facts[i].view, errs[i] = r.readView(ctx, t, facts[i].cmd)
		}()
	}
	wg.Wait()
	if errs[0] != nil { // the status: without it there is nothing to answer from
		st.failWith(ctx, errs[0])
		return
	}
	var kept []askFact
	for i, f := range facts {
		if errs[i] != nil {
			zerolog.Ctx(ctx).Warn().Err(errs[i]).Str("fact", f.cmd.Line).Msg("left out of /ask's facts")
			continue
		}
		kept = append(kept, f)
	}
	var answer *ai.Answer
	note := ""
	if r.AI != nil {
		st.step(ctx, "", "⏳ Writing an answer from the facts…")
	}
	if r.AI == nil {
		note = "`/ask` answers in words when daytwo's server config names an AI endpoint (`ai:`); it has none, so here are the facts it would answer from."
	} else if a, err := r.AI.Ask(ctx, resolved.Question, aiFacts(kept)); err != nil {
		// The error may hold what the endpoint said: it goes to the log, not the thread.
		zerolog.Ctx(ctx).Warn().Err(err).Msg("no AI answer to /ask")
		note = "The AI-written answer is unavailable right now; here are the facts alone."
	} else {
		answer = &a
	}
	st.set(githubapi.StateAnswered, 0).step(ctx, "", askMarkdown(answer, note, kept))
}

// askTarget fills in the service and environment /ask is about when no flag names them:
// the one service (environment) the question names, else the thread's labels decide as
// for any command.
func askTarget(cfg *repoconfig.Config, cmd command.Command, labels []string) command.Command {
	words := strings.FieldsFunc(strings.ToLower(cmd.Question), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	})
	for i, w := range words {
		words[i] = strings.Trim(w, ".-_")
	}
	named := func(names []string) string {
		var found []string
		for _, n := range names {
			if slices.Contains(words, strings.ToLower(n)) {
				found = append(found, n)
			}
		}
		if len(found) == 1 {
			return found[0]
		}
		return ""
	}
	if cmd.Service == "" {
		cmd.Service = named(cfg.ServiceNames())
	}
	if cmd.Env == "" {
		cmd.Env = named(cfg.EnvNames())
	}
	if cmd.Env == "" {
		for _, l := range labels {
			if e, ok := strings.CutPrefix(l, "env/"); ok {
				if _, known := cfg.Env(e); known {
					cmd.Env = e
				}
			}
		}
	}
	return cmd
}

// askCommands are the read-only commands whose answers are the facts of a resolved /ask:
// the status, the history and the differences with the environment before (or, without
// an environment, between each environment and the next). The status comes first.
func askCommands(cfg *repoconfig.Config, ask command.Command) []askFact {
	target := " --service " + ask.Service
	if ask.Env != "" {
		target += " --env " + ask.Env
	}
	out := []askFact{
		{cmd: command.Command{Name: "status", Line: "/status" + target, Service: ask.Service, Env: ask.Env}},
		{cmd: command.Command{Name: "history", Line: "/history" + target, Service: ask.Service, Env: ask.Env, Limit: command.DefaultHistoryLimit}},
	}
	envs := cfg.EnvNames()
	for i := 1; i < len(envs); i++ {
		if ask.Env != "" && envs[i] != ask.Env {
			continue
		}
		from, to := envs[i-1], envs[i]
		out = append(out, askFact{cmd: command.Command{Name: "diff", Line: fmt.Sprintf("/diff %s %s --service %s", from, to, ask.Service), Service: ask.Service, From: from, Env: to}})
	}
	return out
}

// aiFacts are the facts as the model reads them: plain text, one line each.
func aiFacts(facts []askFact) []ai.Fact {
	out := make([]ai.Fact, len(facts))
	for i, f := range facts {
		var lines []string
		for _, l := range strings.Split(f.view.Render(markdown.Plain), "\n") {
			if strings.TrimSpace(l) != "" {
				lines = append(lines, strings.TrimRight(l, " "))
			}
		}
		out[i] = ai.Fact{Title: f.cmd.Line, Lines: lines}
	}
	return out
}

// maxAskComment keeps /ask's answer within a GitHub comment.
const maxAskComment = 60000

// askMarkdown is the answer to /ask: the model's answer, labelled as AI-written and
// escaped (no markup, HTML or mention of its own), the commands it suggests, then the
// facts; or the note saying why there is no such answer, and the facts.
func askMarkdown(a *ai.Answer, note string, facts []askFact) string {
	var b strings.Builder
	if a != nil {
		b.WriteString(a.Markdown())
	} else {
		b.WriteString(note + "\n\n")
	}
	b.WriteString("#### Facts\n\n")
	for _, f := range facts {
		b.WriteString("##### " + markdown.Code(f.cmd.Line) + "\n\n")
		b.WriteString(strings.TrimRight(f.view.Render(markdown.GitHub), "\n") + "\n\n")
	}
	return clip.Lines(strings.TrimRight(b.String(), "\n")+"\n", maxAskComment, "\n… (truncated to fit a GitHub comment)\n")
}
