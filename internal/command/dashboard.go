package command

// dashboardSpec is /dashboard: it writes nothing but the dashboard issue, so it is
// neither a change (no --dry-run, no freeze) nor merely an answer.
func dashboardSpec() Spec {
	return Spec{
		Name:    "dashboard",
		Summary: "Create the daytwo dashboard issue of the GitOps repository, or bring it up to date",
		Description: "The dashboard is one issue, \"daytwo dashboard\", labelled `daytwo` and `dashboard`: every service in every " +
			"environment (images, replicas, freezes, Argo CD's sync and health where it is configured, open daytwo pull " +
			"requests and incidents), a checkbox per pending promotion between consecutive environments and per frozen " +
			"environment. Ticking a box runs its command as the person who ticked it, with their permissions; the answer is " +
			"posted on the dashboard, and a refused command's box is unticked. daytwo rewrites only the part between its " +
			"markers and keeps the dashboard current after each change, merge and rollout. Anyone with read access may ask.",
		Repository: true,
		Examples:   []Example{{Line: "/dashboard", Text: "create the dashboard issue, or update it now"}},
		Form: &FormSpec{
			Name:        "dashboard",
			Description: "Create the daytwo dashboard issue, or bring it up to date.",
			Intro: "The dashboard is one issue showing every service in every environment, the pending promotions and the " +
				"frozen environments, with a checkbox to run each.",
			Outro:  "daytwo answers here with a link to the dashboard; it changes nothing but the dashboard issue.",
			Reason: "Anything you want to say. It stays in this issue.",
		},
	}
}
