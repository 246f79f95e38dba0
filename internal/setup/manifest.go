// Package setup registers daytwo's GitHub App through GitHub's app-manifest flow
// (docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest): a
// local page shows what the app may do and why, sends app.yml to GitHub, takes the code
// GitHub redirects back with, exchanges it for the app's id, webhook secret and private
// key, and writes the files the server and the Kubernetes manifests read.
package setup

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// appYML is a copy of the repository's app.yml, which go:embed cannot reach from here;
// TestEmbeddedAppYMLIsTheRepositorys fails when the two differ.
//
//go:generate cp ../../app.yml app.yml
//go:embed app.yml
var appYML []byte

// Grant is one event or permission the app asks for, with the reason app.yml gives.
type Grant struct {
	Name   string
	Access string // read or write; "" for events
	Reason string
}

// Manifest is app.yml: the manifest GitHub receives, and what the page explains.
type Manifest struct {
	Name        string
	Description string
	Events      []Grant
	Permissions []Grant
	doc         map[string]any // app.yml as data, turned into JSON per registration
}

// DefaultManifest is the app.yml daytwo ships.
func DefaultManifest() (*Manifest, error) { return ParseManifest(appYML) }

// ParseManifest reads an app manifest in YAML. The comment on each default event and
// default permission is its reason; one without a reason is an error, so the page never
// asks for something without saying why.
func ParseManifest(data []byte) (*Manifest, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("app.yml: %w", err)
	}
	if len(root.Content) != 1 || root.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("app.yml: not a mapping")
	}
	top := root.Content[0]
	m := &Manifest{}
	if err := top.Decode(&m.doc); err != nil {
		return nil, fmt.Errorf("app.yml: %w", err)
	}
	m.Name, _ = m.doc["name"].(string)
	m.Description, _ = m.doc["description"].(string)
	if m.Name == "" {
		return nil, errors.New("app.yml: name is missing")
	}
	if u, _ := m.doc["url"].(string); u == "" {
		return nil, errors.New(`app.yml: url is missing (GitHub requires the app's homepage)`)
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		key, val := top.Content[i], top.Content[i+1]
		switch key.Value {
		case "default_events":
			if val.Kind != yaml.SequenceNode {
				return nil, fmt.Errorf("app.yml line %d: default_events must be a list", val.Line)
			}
			for _, ev := range val.Content {
				g := Grant{Name: ev.Value, Reason: reason(ev.HeadComment, ev.LineComment)}
				if g.Reason == "" {
					return nil, fmt.Errorf("app.yml line %d: event %s has no comment saying why daytwo needs it", ev.Line, g.Name)
				}
				m.Events = append(m.Events, g)
			}
		case "default_permissions":
			if val.Kind != yaml.MappingNode {
				return nil, fmt.Errorf("app.yml line %d: default_permissions must be a mapping", val.Line)
			}
			for j := 0; j+1 < len(val.Content); j += 2 {
				k, v := val.Content[j], val.Content[j+1]
				g := Grant{Name: k.Value, Access: v.Value, Reason: reason(k.HeadComment, k.LineComment, v.LineComment)}
				if g.Access != "read" && g.Access != "write" {
					return nil, fmt.Errorf("app.yml line %d: permission %s is %q, not read or write", v.Line, g.Name, g.Access)
				}
				if g.Reason == "" {
					return nil, fmt.Errorf("app.yml line %d: permission %s has no comment saying why daytwo needs it", k.Line, g.Name)
				}
				m.Permissions = append(m.Permissions, g)
			}
		}
	}
	return m, nil
}

// reason joins YAML comments into one sentence, without the "#" markers.
func reason(comments ...string) string {
	var parts []string
	for _, c := range comments {
		for _, line := range strings.Split(c, "\n") {
			if line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "#")); line != "" {
				parts = append(parts, line)
			}
		}
	}
	return strings.Join(parts, " ")
}

// JSON is the manifest GitHub receives: app.yml with the webhook URL and the page GitHub
// sends the browser back to.
func (m *Manifest) JSON(hookURL, redirectURL string) ([]byte, error) {
	doc := make(map[string]any, len(m.doc)+1)
	for k, v := range m.doc {
		doc[k] = v
	}
	hook := map[string]any{"active": true}
	if h, ok := m.doc["hook_attributes"].(map[string]any); ok {
		for k, v := range h {
			hook[k] = v
		}
	}
	hook["url"] = hookURL
	doc["hook_attributes"] = hook
	doc["redirect_url"] = redirectURL
	return json.Marshal(doc)
}
