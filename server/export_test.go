package server

// ResetAuthFailures forgets every address's failed authentications, so that
// tests of refusals are not slowed down by each other.
func (s *Server) ResetAuthFailures() {
	s.failures.mu.Lock()
	clear(s.failures.byAddr)
	s.failures.mu.Unlock()
}
