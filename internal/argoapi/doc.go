// Package argoapi talks to a running Argo CD through argo-cd's generated gRPC
// ApplicationService client on a connection of its own (TLS, plaintext or gRPC-web, the API
// token sent as argo-cd's client sends it): it reads an Application's live state, asks for a
// refresh (normal or hard) or a sync, and follows a rollout or a sync to its end with the
// watch stream, falling back to polling.
// It does not use argo-cd's pkg/apiclient, which links kubectl into the binary.
package argoapi
