package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/verityhq/verity/cmd/verity/internal/config"
	"github.com/verityhq/verity/collector/evaluate"
)

// errTargetMissed is exit code 1 after a report that says which.
var errTargetMissed = errors.New("an evaluation target was missed (FAIL above)")

func cmdAbuseEval(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "abuse eval", "[--data DIR] [--json] [--misses N] [--config FILE]\n\n"+
		"Replays the labelled traffic in DIR through an in-process collector (with generated\n"+
		"network databases) and prints precision, recall and false-positive rate per class\n"+
		"and the targets of docs/abuse.md. Exit code 1 when a target is missed. With --config,\n"+
		"the file's scoring section is evaluated instead of the defaults.")
	data := fs.String("data", "testdata/abuse", "folder of scenarios.yaml and its corpora")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	misses := fs.Int("misses", 5, "missed samples to list per scenario (-1: all)")
	fs.String("config", "", "configuration file whose scoring section to evaluate; also VERITY_CONFIG")
	if err := parse(fs, args); err != nil || helpAsked(args) {
		return err
	}
	cfg, err := config.Load(fs, e.getenv)
	if err == nil {
		err = cfg.Scoring.Validate()
	}
	if err != nil {
		return fmt.Errorf("invalid configuration:\n  %w", err) // Load's errors name the file or variable
	}
	d, err := evaluate.LoadData(*data)
	if err != nil {
		return err
	}
	report, err := evaluate.Run(ctx, d, &cfg.Scoring)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(report)
	} else {
		err = report.WriteText(e.stdout, *misses)
	}
	if err != nil {
		return err
	}
	if report.Failed() {
		return errTargetMissed
	}
	return nil
}
