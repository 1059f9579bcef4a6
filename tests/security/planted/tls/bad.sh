#!/usr/bin/env bash
# Planted insecure TLS: tls_check.py must report every line marked PLANTED, and nothing else.
curl -sS --cacert ca.pem https://api.example.com/ready
curl -k https://api.example.com/ready  # PLANTED
curl -fsSk https://api.example.com/ready  # PLANTED
curl --insecure https://api.example.com/ready  # PLANTED
wget --no-check-certificate https://api.example.com/  # PLANTED
git -c http.sslVerify=false clone https://git.example.com/repo  # PLANTED
psql "postgresql://app@db.example.com/app?sslmode=disable"  # PLANTED
psql "postgresql://app@127.0.0.1/app?sslmode=disable"
psql "postgresql://app@db.example.com/app?sslmode=verify-full"
export NODE_TLS_REJECT_UNAUTHORIZED=0  # PLANTED
