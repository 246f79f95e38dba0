// Package e2e proves daytwo's loop with real parts: a comment becomes a pull request on the
// test GitHub, the merge is pushed to a git daemon, a real Argo CD (application controller,
// repo server and API server built from argo-cd) renders it with kustomize and applies it
// to a real kube-apiserver backed by etcd, with kwok as the node, and daytwo reports the
// rollout. The tests carry the build tag e2e; `make e2e` builds the binaries and runs them.
package e2e
