#!/bin/sh
# Makes the files testdata/production/hub.yaml names, in the current
# directory, with openssl: a CA for the hub's own certificate and one for
# the agencies' client certificates (in production both come from your
# PKI), the FBI's token-signing key pair (the FBI keeps fbi-key.pem; the hub
# gets fbi.pub), and one client certificate for a DHS liaison.
#   cd somewhere && sh make-files.sh && taxiihub config check --config hub.yaml
set -eu
mkdir -p tls keys

# The hub's HTTPS certificate, from a CA of your own (or use your PKI's).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
  -subj "/CN=Taxiihub server CA" -keyout tls/server-ca.key -out tls/server-ca.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=hub.example" \
  -keyout tls/hub.key -out tls/hub.csr 2>/dev/null
printf 'subjectAltName=DNS:hub.example,DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > tls/hub.ext
openssl x509 -req -in tls/hub.csr -CA tls/server-ca.pem -CAkey tls/server-ca.key -CAcreateserial \
  -days 365 -extfile tls/hub.ext -out tls/hub.crt 2>/dev/null

# The CA whose client certificates the hub accepts (CISA AIS style mTLS).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
  -subj "/CN=Agencies client CA" -keyout tls/clients-ca.key -out tls/clients-ca.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=analyst/O=DHS" \
  -keyout tls/dhs-analyst.key -out tls/dhs-analyst.csr 2>/dev/null
printf 'subjectAltName=email:analyst@dhs.example\nextendedKeyUsage=clientAuth\n' > tls/dhs-analyst.ext
openssl x509 -req -in tls/dhs-analyst.csr -CA tls/clients-ca.pem -CAkey tls/clients-ca.key -CAcreateserial \
  -days 365 -extfile tls/dhs-analyst.ext -out tls/dhs-analyst.crt 2>/dev/null

# The FBI signs its own tokens with an Ed25519 key; the hub holds only the
# public half.
openssl genpkey -algorithm ed25519 -out keys/fbi-key.pem
openssl pkey -in keys/fbi-key.pem -pubout -out keys/fbi.pub
chmod 600 tls/*.key keys/fbi-key.pem
