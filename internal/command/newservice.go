package command

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/distribution/reference"
	"k8s.io/apimachinery/pkg/util/validation"
)

// DefaultServicePort is the container port of a new service when --port is not given.
const DefaultServicePort = 8080

var (
	githubLoginRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9]|-[A-Za-z0-9]){0,38}$`)
	teamSlugRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)
)

func newServiceSpec() Spec {
	return Spec{
		Name:    "new-service",
		Args:    "<name>",
		Summary: "Add a service to the GitOps repository on the golden path",
		Description: "Opens one pull request adding, in the repository's own layout: a base (Deployment, Service), an overlay " +
			"per environment, the Argo CD Application per environment shaped like the existing ones (or an element of the " +
			"ApplicationSet list generator that deploys them), a Backstage `catalog-info.yaml`, a CODEOWNERS line for the " +
			"owning team and the service's entry in `.github/daytwo.yml`. The files come from daytwo's scaffold templates, " +
			"or from `.github/daytwo/scaffold/` where the repository overrides them. <name> is a DNS label not used by any " +
			"service, directory or Application; --owner is a GitHub team (`org/team`); --image has a tag or a digest. " +
			"--envs limits the service to some environments (default: all).",
		Mutating:          true,
		Repository:        true,
		EnvironmentPolicy: true, // it adds to environments: the rule of each one it touches applies
		Examples: []Example{
			{"/new-service ledger --owner acme/payments-team --image ghcr.io/acme/ledger:0.1.0", "add ledger to every environment"},
			{"/new-service search --owner acme/search --image ghcr.io/acme/search:1.0.0 --port 9000 --envs dev,staging", "add search to dev and staging only, listening on 9000"},
		},
		Flags: func(fs *FlagSet, c *Command) {
			fs.Func("owner", "", "<org>/<team>", "the GitHub team that owns the service", func(v string) error {
				team, err := ParseTeam(v)
				c.Owner = team
				return err
			})
			fs.Func("image", "", "<image>", "the image, with a tag or digest: ghcr.io/acme/web:1.0.0", func(v string) error {
				ref, err := ParseServiceImage(v)
				c.Image = ref
				return err
			})
			fs.Func("port", "", "<n>", fmt.Sprintf("the container port (default %d)", DefaultServicePort), func(v string) error {
				n, err := ParsePort(v)
				c.Port = n
				return err
			})
			fs.Func("envs", "", "<env,...>", "the environments to add it to, comma-separated (default: all)", func(v string) error {
				envs, err := ParseEnvList(v)
				c.Envs = envs
				return err
			})
			fs.Require("owner")
			fs.Require("image")
			fs.Name("system", "", "<name>", "the Backstage system (default: the one the existing services' catalog files name)", "system", &c.System)
			fs.Name("lifecycle", "", "<name>", "the Backstage lifecycle (default: experimental)", "lifecycle", &c.Lifecycle)
		},
		Bind: bindNewService,
		Form: &FormSpec{
			Name:        "new service",
			Description: "Add a service to the GitOps repository, laid out like the existing ones.",
			Intro: "Opens one pull request adding the service's base, an overlay per environment, its Argo CD Applications, " +
				"a Backstage catalog-info.yaml, a CODEOWNERS line and its entry in .github/daytwo.yml, all rendered and validated.",
			Fields: []FormField{
				{ID: "name", Type: "input", Label: "Name", Required: true, Placeholder: "ledger",
					Description: "A DNS label: lower-case letters, digits and -, at most 63 characters, not used by any service."},
				{ID: "owner", Type: "input", Label: "Owning team", Required: true, Placeholder: "acme/payments-team",
					Description: "The GitHub team that owns the service, as org/team."},
				{ID: "image", Type: "input", Label: "Image", Required: true, Placeholder: "ghcr.io/acme/ledger:0.1.0",
					Description: "The image with a tag or a digest."},
				{ID: "port", Type: "input", Label: "Port", Placeholder: strconv.Itoa(DefaultServicePort),
					Description: fmt.Sprintf("The port the container listens on. Leave empty for %d.", DefaultServicePort)},
				{ID: "envs", Type: "input", Label: "Environments", Placeholder: "dev,staging,prod",
					Description: "Comma-separated. Leave empty for every environment."},
				{ID: "system", Type: "input", Label: "System", Placeholder: "shop",
					Description: "The Backstage system. Leave empty for the one the existing services name."},
			},
		},
	}
}

func bindNewService(c *Command, args []string) error {
	switch {
	case len(args) == 0:
		return ArgErrorf(0, "name the service: /new-service <name> --owner <org>/<team> --image <image>")
	case len(args) > 1:
		return ArgErrorf(1, "/new-service takes one name, but got %d words", len(args))
	}
	if err := ValidateServiceName(args[0]); err != nil {
		return &ArgError{Index: 0, Err: err}
	}
	c.Service = args[0]
	switch {
	case c.Owner == "":
		return errors.New("give the owning team: --owner <org>/<team>")
	case c.Image.Name == "":
		return errors.New("give the image: --image <image>:<tag> or <image>@sha256:<digest>")
	}
	if c.Port == 0 {
		c.Port = DefaultServicePort
	}
	if c.Lifecycle == "" {
		c.Lifecycle = "experimental"
	}
	return nil
}

// ValidateServiceName checks the name of a new service: a DNS-1123 label, as Kubernetes
// checks the names of the objects the service is deployed as.
func ValidateServiceName(s string) error {
	if err := ValidateName("service", s); err != nil {
		return err
	}
	if errs := validation.IsDNS1123Label(s); len(errs) > 0 {
		return fmt.Errorf("the service name %q is not a DNS label: %s", s, strings.Join(errs, "; "))
	}
	return nil
}

// ParseTeam reads a GitHub team written org/team (or @org/team) and returns "org/team".
func ParseTeam(s string) (string, error) {
	t := strings.TrimPrefix(s, "@")
	org, slug, ok := strings.Cut(t, "/")
	switch {
	case !ok || org == "" || slug == "":
		return "", fmt.Errorf("the team %q must be written <org>/<team>, e.g. acme/payments-team", s)
	case !githubLoginRE.MatchString(org):
		return "", fmt.Errorf("%q is not a GitHub organization name", org)
	case !teamSlugRE.MatchString(slug):
		return "", fmt.Errorf("%q is not a team slug: use the team's slug as in its URL (letters, digits, - and _)", slug)
	}
	return org + "/" + slug, nil
}

// ParseServiceImage reads the image of a new service with distribution/reference, the
// grammar container runtimes use: it must carry a tag or a digest.
func ParseServiceImage(s string) (ImageRef, error) {
	if err := visibleText(s); err != nil {
		return ImageRef{}, fmt.Errorf("the image %q %w", s, err)
	}
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return ImageRef{}, fmt.Errorf("the image %q is not a valid image reference: %v", s, err)
	}
	// The name as written: kustomize matches images by it, so docker.io/library/ is not added.
	written, _, _ := strings.Cut(s, "@")
	if i := strings.LastIndexByte(written, ':'); i > strings.LastIndexByte(written, '/') {
		written = written[:i]
	}
	ref := ImageRef{Name: written}
	if t, ok := named.(reference.Tagged); ok {
		ref.Tag = t.Tag()
	}
	if d, ok := named.(reference.Digested); ok {
		ref.Digest = d.Digest().String()
	}
	if ref.Tag == "" && ref.Digest == "" {
		return ImageRef{}, fmt.Errorf("the image %q has no tag or digest: write %s:<tag> or %s@sha256:<digest>", s, ref.Name, ref.Name)
	}
	return ref, nil
}

// ParsePort reads a TCP port, 1 to 65535.
func ParsePort(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("the port %q must be a whole number from 1 to 65535", s)
	}
	return n, nil
}

// ParseEnvList reads comma-separated environment names, each once.
func ParseEnvList(s string) ([]string, error) {
	var out []string
	for _, e := range strings.Split(s, ",") {
		e = strings.TrimSpace(e)
		if err := ValidateName("environment", e); err != nil {
			return nil, err
		}
		for _, x := range out {
			if x == e {
				return nil, fmt.Errorf("the environment %s is listed twice", e)
			}
		}
		out = append(out, e)
	}
	return out, nil
}
