# Sourced by scripts/stack. terraform is a tool, not a server: Debian does not package it, so it
# is either on PATH or missing, and nothing here can install it.
TOOLS+=(terraform)
tool_terraform_path() { command -v terraform; }
tool_terraform_disables() {
  echo "phase 7 (steps 49-54: Terraform plan/apply of dedicated infrastructure), so PROFESSIONAL and ENTERPRISE tenants cannot be provisioned"
}
