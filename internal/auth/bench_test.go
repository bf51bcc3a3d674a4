package auth

import "testing"

// benchVerifier has one user hashed with DefaultParams, the cost of a real deployment.
func benchVerifier(b *testing.B, o Options) *Verifier {
	users := map[string]string{"alice": mustHash(b, "wonderland", DefaultParams)}
	v, err := New(users, o)
	if err != nil {
		b.Fatal(err)
	}
	return v
}

// BenchmarkCheckCached is a check the cache answers: a client that authenticated in the last
// few minutes.
func BenchmarkCheckCached(b *testing.B) {
	v := benchVerifier(b, Options{})
	if ok, err := v.Check(b.Context(), "alice", "wonderland"); !ok || err != nil {
		b.Fatalf("Check = %v, %v", ok, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, _ := v.Check(b.Context(), "alice", "wonderland"); !ok {
			b.Fatal("rejected")
		}
	}
}

// BenchmarkCheckUncached is a full argon2id check with DefaultParams (the cache is off).
func BenchmarkCheckUncached(b *testing.B) {
	v := benchVerifier(b, Options{CacheTTL: -1})
	b.ReportAllocs()
	for b.Loop() {
		if ok, _ := v.Check(b.Context(), "alice", "wonderland"); !ok {
			b.Fatal("rejected")
		}
	}
}

// BenchmarkCheckWrongPassword is what an attacker costs per guess: always a full computation.
func BenchmarkCheckWrongPassword(b *testing.B) {
	v := benchVerifier(b, Options{})
	b.ReportAllocs()
	for b.Loop() {
		if ok, _ := v.Check(b.Context(), "alice", "guess"); ok {
			b.Fatal("accepted")
		}
	}
}

// BenchmarkCheckCachedParallel is cached checks from every core at once (lock contention).
func BenchmarkCheckCachedParallel(b *testing.B) {
	v := benchVerifier(b, Options{})
	if ok, err := v.Check(b.Context(), "alice", "wonderland"); !ok || err != nil {
		b.Fatalf("Check = %v, %v", ok, err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			v.Check(b.Context(), "alice", "wonderland")
		}
	})
}
