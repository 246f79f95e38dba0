package report

import (
	"fmt"
	"time"

	"github.com/daytwo-dev/daytwo/internal/markdown"
)

// Run is a GitHub Actions run /run started, as /history lists it. A run is not a change
// in Git: the caller reads it from GitHub, and who asked from the request's status comment.
type Run struct {
	When       time.Time
	Workflow   string // the name .github/daytwo.yml lists
	Repo       string // owner/name holding the workflow
	ID         int64
	Number     int
	URL        string
	Status     string // queued, in_progress, completed
	Conclusion string
	// From the status comment of the request that started it; "" when it was not found.
	Service, Env, Requester string
}

// Runs are the workflow runs of a /history answer.
type Runs struct {
	Runs []Run // newest first
	// Notes say what could not be read, e.g. a repository the app is not installed on.
	Notes []string
}

// RenderRuns writes workflow runs as a table, after a heading.
func RenderRuns(r markdown.Renderer, rs *Runs) string {
	out := "\n" + r.Heading(3, "Workflow runs (`/run`)") + "\n"
	if len(rs.Runs) == 0 {
		out += "No workflow runs started by daytwo for this selection.\n"
	} else {
		rows := make([][]string, 0, len(rs.Runs))
		for _, run := range rs.Runs {
			label := fmt.Sprintf("#%d", run.Number)
			if run.URL != "" {
				label = r.Link(label, run.URL)
			} else {
				label = r.Text(label) // not an issue reference
			}
			rows = append(rows, []string{
				run.When.UTC().Format("2006-01-02 15:04"), r.Text(run.Workflow) + " (" + r.Text(run.Repo) + ")",
				orDash(r.Text(run.Service)), orDash(r.Text(run.Env)), orDash(r.Text(run.Requester)),
				label + " " + runResult(r, run),
			})
		}
		out += r.Table([]string{"when (UTC)", "workflow", "service", "env", "asked by", "run"}, rows)
	}
	for _, n := range rs.Notes {
		out += "\n" + r.Text(n) + "\n"
	}
	return out
}

// runResult is how a run stands, with its icon.
func runResult(r markdown.Renderer, run Run) string {
	if run.Status != "completed" {
		return spacedIcon(r, "⏳") + r.Text(run.Status)
	}
	icon := "⚠️"
	switch run.Conclusion {
	case "success":
		icon = "✅"
	case "failure", "timed_out", "startup_failure":
		icon = "❌"
	}
	return spacedIcon(r, icon) + r.Text(run.Conclusion)
}

// spacedIcon is an icon and a space where the renderer shows icons.
func spacedIcon(r markdown.Renderer, emoji string) string {
	if i := r.Icon(emoji, ""); i != "" {
		return i + " "
	}
	return ""
}
