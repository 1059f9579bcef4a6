# Sourced by scripts/stack. A second Chroma standing for the vector store of dedicated tenants: the
# local Terraform module of phase 7 hands it to the tenant as its own (vector.chroma_url), so a
# tenant upgraded from FREE has its Chroma database and collections here and none left on the
# shared Chroma. Same program as chroma.sh; data in var/chroma-dedicated/data. Port offset 19.
PORT_CHROMA_DEDICATED=$((MATIH_PORT_BASE + 19))
SERVICES+=(chromadedicated)

svc_chromadedicated_available() { svc_chroma_available; }
svc_chromadedicated_why() { svc_chroma_why; }
svc_chromadedicated_start() { chroma_start chromadedicated "$PORT_CHROMA_DEDICATED" "$VAR/chroma-dedicated"; }
svc_chromadedicated_ready() { chroma_ready "$PORT_CHROMA_DEDICATED"; }
svc_chromadedicated_stop() { chroma_stop chromadedicated; }
svc_chromadedicated_env() { echo "MATIH_CHROMA_DEDICATED_URL=http://127.0.0.1:$PORT_CHROMA_DEDICATED"; }
