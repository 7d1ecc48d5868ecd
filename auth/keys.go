package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// ParsePrivateKey reads a PEM private key: PKCS #8, or the EC and RSA
// forms openssl writes.
func ParsePrivateKey(data []byte) (any, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	if key, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		return key, nil
	}
	if key, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		return key, nil
	}
	if key, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return key, nil
	}
	return nil, errors.New("not a PKCS #8, EC or RSA private key")
}

// ParseEd25519PrivateKey reads a PEM private key that must be Ed25519, as
// the hub's own keys are.
func ParseEd25519PrivateKey(data []byte) (ed25519.PrivateKey, error) {
	key, err := ParsePrivateKey(data)
	if err != nil {
		return nil, err
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, errors.New("not an Ed25519 key")
	}
	return priv, nil
}

// parsePublicKey reads a PEM public key and checks that it suits alg.
func parsePublicKey(data []byte, alg string) (any, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("not a PKIX public key: %w", err)
	}
	switch k := key.(type) {
	case ed25519.PublicKey:
		if alg == "EdDSA" {
			return k, nil
		}
	case *ecdsa.PublicKey:
		if alg == "ES256" && k.Curve == elliptic.P256() {
			return k, nil
		}
	case *rsa.PublicKey:
		if alg == "RS256" {
			if k.N.BitLen() < 2048 {
				return nil, fmt.Errorf("RSA key of %d bits; at least 2048 are required", k.N.BitLen())
			}
			return k, nil
		}
	}
	return nil, fmt.Errorf("a %T does not suit alg %s (EdDSA: Ed25519, ES256: ECDSA P-256, RS256: RSA)", key, alg)
}

// PublicPEM encodes a public key as PKIX PEM, the form organizations
// register in the config.
func PublicPEM(pub any) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}
