// Package argoapi talks to a running Argo CD through argo-cd's own API client
// (pkg/apiclient): it reads an Application's live state, asks for a refresh or a sync, and
// follows a rollout with the watch stream, falling back to polling.
package argoapi
