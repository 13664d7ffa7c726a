package stats

import (
	"encoding/json"
	"math"
	"testing"
)

// The scaled error follows the PDG rule, and a value that is not finite is written as null.
func TestExtrapolation(t *testing.T) {
	e := LinearFit{A: 1, ErrA: 0.1, B: 2, ErrB: 0.2, Chi2: 8, DOF: 2}.Extrapolation()
	if e.E0 != 1 || e.Slope != 2 || math.Abs(e.ErrScaled-0.2) > 1e-15 {
		t.Fatalf("%+v: want ErrScaled = 0.1 sqrt(8/2) = 0.2", e)
	}
	if e := (LinearFit{ErrA: 0.1, Chi2: 1, DOF: 2}).Extrapolation(); e.ErrScaled != 0.1 {
		t.Fatalf("chi2 below dof must not shrink the error: %+v", e)
	}
	b, err := json.Marshal(Extrapolation{E0: math.NaN(), Err: 1, DOF: 3})
	if err != nil || string(b) != `{"E0":null,"err":1,"err_scaled":0,"slope":0,"slope_err":0,"chi2":0,"dof":3}` {
		t.Fatalf("%s, %v", b, err)
	}
}
