//go:build tools

// Package tools pins the Argo CD command the end-to-end test builds.
package tools

import _ "github.com/argoproj/argo-cd/v2/cmd"
