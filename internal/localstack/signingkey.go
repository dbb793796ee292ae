package localstack

import "path/filepath"

// ServiceAccountSigningKeyFile is the PEM private key with which the stack's API server
// signs ServiceAccount tokens (envtest writes it as sa-signer.key in the API server's
// certificate folder). Tests use it to make tokens the API server itself would have
// issued, such as one that has already expired, which the TokenRequest API refuses to mint.
func (s *Stack) ServiceAccountSigningKeyFile() string {
	return filepath.Join(s.env.ControlPlane.APIServer.CertDir, "sa-signer.key")
}
