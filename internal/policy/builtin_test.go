package policy

import "testing"

func TestReducedPolicyCounts(t *testing.T) {
	rules, err := Builtin(BaseReduced)
	if err != nil {
		t.Fatal(err)
	}
	accepts, ports := 0, 0
	for _, r := range rules {
		if r.Accept {
			accepts++
			ports += int(r.PortHi-r.PortLo) + 1
		}
	}
	if accepts != 69 || ports != 101 {
		t.Errorf("reduced policy accepts %d entries / %d ports, want 69 / 101", accepts, ports)
	}
	if last := rules[len(rules)-1]; last.Accept || !last.isWildcardAll() {
		t.Errorf("reduced policy ends with %q, want reject *:*", last.String())
	}
}

func TestBuiltinDefault(t *testing.T) {
	rules, err := Builtin("")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rules {
		got = append(got, r.String())
	}
	want := []string{"reject *:25", "reject *:119", "reject *:135-139", "reject *:445", "reject *:563",
		"reject *:1214", "reject *:4661-4666", "reject *:6346-6429", "reject *:6699", "reject *:6881-6999", "accept *:*"}
	if len(got) != len(want) {
		t.Fatalf("default policy = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("default policy rule %d = %q, want %q", i, got[i], want[i])
		}
	}
}

func TestBuiltinUnknown(t *testing.T) {
	if _, err := Builtin("lenient"); err == nil {
		t.Error(`Builtin("lenient") succeeded, want an error`)
	}
}
