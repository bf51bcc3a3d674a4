package gateway

import (
	"errors"
	"net/http"

	"sortie.dev/sortie/internal/auth"
	"sortie.dev/sortie/internal/refusal"
)

// authenticate checks credentials with the Authenticate hook and, when they pass, carries the
// context it returns. The password is never kept.
func (s *Server) authenticate(cc *clientConn, user, password string) error {
	if s.Authenticate == nil {
		return refusal.New(refusal.Auth, "")
	}
	ctx, err := s.Authenticate(cc.ctx, user, password)
	if err != nil {
		return refusalOf(err)
	}
	cc.ctx = ctx
	return nil
}

// authenticateHTTP checks the Proxy-Authorization of a request on a listener that requires
// it, every request of a kept-alive connection alike (successes are cached by the hook). On
// failure it sets cc.early to the refusal to answer and returns false.
func (s *Server) authenticateHTTP(cc *clientConn, h *head) bool {
	if !cc.auth {
		return true
	}
	user, password, err := auth.ProxyCredentials(h.header)
	if err == nil {
		err = s.authenticate(cc, user, password)
	} else if !errors.Is(err, auth.ErrNoCredentials) && s.Authenticate != nil {
		// Malformed credentials count as a failure: the hook sees an impossible user.
		s.Authenticate(cc.ctx, "", "")
	}
	if err != nil {
		cc.early = refusalOf(err)
		if cc.early.Reason == refusal.Unknown || cc.early.Reason == refusal.Malformed {
			cc.early = refusal.New(refusal.Auth, "")
		}
		return false
	}
	return true
}

// kindOf names the kind of an HTTP request.
func kindOf(h *head) Kind {
	if h.method == http.MethodConnect {
		return KindConnect
	}
	return KindForward
}
