package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"vqs/critical"
	"vqs/scan"
)

// The extrapolated critical couplings reach the JSON and the text beside the largest pair's,
// with the sigma between the two estimators computed for both.
func TestScanReportsExtrapolatedCriticalPoint(t *testing.T) {
	res := &scan.Result{Critical: &scan.Critical{
		Binder: &critical.Result{M2c: -1.67, Err: 0.0017, Drift: -0.0071,
			Crossings:    []critical.Crossing{{L1: 8, L2: 16, M2: -1.6629, Err: 0.0042}, {L1: 16, L2: 32, M2: -1.67, Err: 0.0017}},
			Extrapolated: &critical.Extrapolation{M2c: -1.6717, Err: 0.0028}},
		Gap: &critical.Result{M2c: -1.674, Err: 0.0009,
			Crossings:    []critical.Crossing{{L1: 8, L2: 16, M2: -1.6739, Err: 0.0006}, {L1: 16, L2: 32, M2: -1.674, Err: 0.0009}},
			Extrapolated: &critical.Extrapolation{M2c: -1.6741, Err: 0.0011, Resolved: 1}},
		CollapseIsing: 3.46, NuFit: 0.679, NuFitErr: 0.013, NuFitExtrapolated: 0.647, NuFitExtrapolatedErr: 0.017,
	}}
	out := scanJSON(res, scan.Config{M2s: []float64{-1.7, -1.6}}, nil)
	raw, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Critical map[string]any `json:"critical"`
	}
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]float64{"m2c_binder": -1.67, "m2c_binder_extrapolated": -1.6717,
		"m2c_binder_extrapolated_err": 0.0028, "m2c_gap_extrapolated": -1.6741, "m2c_gap_extrapolated_err": 0.0011,
		"omega_ising": critical.OmegaIsing3D, "nu_fit_extrapolated": 0.647, "nu_fit_extrapolated_err": 0.017,
		"m2c_gap_extrapolated_resolved": 1} {
		if got, ok := back.Critical[k].(float64); !ok || got != want {
			t.Errorf("critical.%s = %v, want %v", k, back.Critical[k], want)
		}
	}
	var b bytes.Buffer
	if err := printScan(&b, out); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	// (-1.6717 - -1.6741) / hypot(0.0028, 0.0011) = 0.80; the largest pair: 0.004 / hypot(0.0017, 0.0009) = 2.08.
	for _, want := range []string{"m2_c = -1.6717(28)", "m2_c = -1.6741(11) (resolved in 100% of resamples)", "m2 = -1.6629(42)",
		"differ by 2.08 combined sigma (largest pair), 0.80 extrapolated", "about the extrapolated m2_c = -1.6717: 0.647 +- 0.017"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}

	// Without an extrapolation (two sizes) the keys are null and the text compares the
	// largest pairs alone.
	res.Critical.Gap.Extrapolated = nil
	out = scanJSON(res, scan.Config{M2s: []float64{-1.7, -1.6}}, nil)
	if out.Critical.M2cGapExt != nil || out.Critical.M2cGapExtErr != nil {
		t.Errorf("gap extrapolation %v +- %v without one", out.Critical.M2cGapExt, out.Critical.M2cGapExtErr)
	}
	b.Reset()
	if err := printScan(&b, out); err != nil {
		t.Fatal(err)
	}
	if text := b.String(); strings.Contains(text, "extrapolated\n") || !strings.Contains(text, "differ by 2.08 combined sigma (largest pair)\n") {
		t.Errorf("text without a gap extrapolation:\n%s", text)
	}
}
