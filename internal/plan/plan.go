// Package plan is the domain core: a Command, the GitOps repo's config and a read-only
// snapshot of the repo at one commit become a ChangeSet (files, title, body, commit
// message, rendered diff). It imports no GitHub or Argo CD package; adapters implement
// the interfaces declared here.
package plan

import (
	"context"
	"time"

	"github.com/daytwo-dev/daytwo/internal/command"
)

// Snapshot is the repository at one commit, read file by file. Implementations: the local
// git adapter (daytwo plan/apply) and the GitHub adapter (the server).
type Snapshot interface {
	// Commit is the full sha the snapshot reads from.
	Commit() string
	// ReadFile returns the file's bytes, or an error wrapping fs.ErrNotExist.
	ReadFile(ctx context.Context, path string) ([]byte, error)
	// ReadDir lists the entries of a directory (names only; directories end in "/"),
	// or an error wrapping fs.ErrNotExist.
	ReadDir(ctx context.Context, path string) ([]string, error)
}

// History gives access to earlier commits, for /rollback.
type History interface {
	// Log lists commits that touched any of paths, newest first, at most limit.
	Log(ctx context.Context, paths []string, limit int) ([]CommitInfo, error)
	// At opens the snapshot at commit (a full or abbreviated sha).
	At(ctx context.Context, commit string) (Snapshot, error)
}

// CommitInfo is one commit of History.Log.
type CommitInfo struct {
	SHA      string
	Message  string            // full message
	Trailers map[string]string // parsed "Key: value" trailers of the last paragraph
	Time     time.Time
}

// Input is everything the planner needs besides the repo.
type Input struct {
	Command   command.Command
	Requester string    // GitHub login (or --as on the CLI)
	Origin    string    // URL of the comment/issue that asked; "" on the CLI
	OriginKey string    // stable id of the origin (e.g. "acme/gitops#12"), part of the branch name
	Labels    []string  // labels of the origin issue/PR: service/<name>, env/<name>
	Repo      string    // repository the request came from ("owner/name"), for repo→service mapping
	Now       time.Time // for restartedAt and freeze timestamps
	// ID identifies the request (the asking comment and the command's place in it), and
	// Status where its status comment is; both "" on the CLI. They become trailers.
	ID, Status string
	// Restores is the pull request (owner/name#number) whose time-boxed change this
	// request restores; "" for a request someone made.
	Restores string
}

// FileChange is one file written or deleted by a ChangeSet.
type FileChange struct {
	Path    string
	Content []byte // new content; nil with Delete
	Delete  bool
	Before  []byte // content at the base commit; nil when the file is new
}

// ChangeSet is the exact Git change a command makes, proven to render.
type ChangeSet struct {
	Service, Env, Action string
	Base                 string // commit the change was planned on
	Files                []FileChange
	Branch               string // deterministic per (service, env, action, origin)
	Title                string
	Body                 string // PR body (markdown, with hidden metadata)
	CommitMessage        string // subject, body, trailers
	Summary              string // one line: "scale checkout in prod: 2 → 5 replicas"
	FileDiff             string // unified diff of the files
	RenderedDiff         string // unified diff of the rendered resources that changed
	Risk                 Risk
	Metadata             map[string]string // machine-readable, also embedded in Body
}

// Risk is the tier shown in the PR; High needs two owners' approval.
type Risk string

const (
	RiskLow    Risk = "low"
	RiskMedium Risk = "medium"
	RiskHigh   Risk = "high"
)
