# Test module: one terraform_data whose provisioner writes its shell's pid to
# <local_root>/sleep.pid and then sleeps 30 s, so a test can cancel a long terraform run and check
# that the whole process group is gone.
terraform {
  backend "pg" {}
}

variable "tenant_id" { type = string }
variable "tenant_slug" { type = string }
variable "tier" { type = string }
variable "region" { type = string }
variable "services" { type = list(string) }
variable "local_root" { type = string }

resource "terraform_data" "slow" {
  input = var.tenant_slug
  provisioner "local-exec" {
    command = "mkdir -p '${var.local_root}' && echo $$ > '${var.local_root}/sleep.pid.tmp' && mv '${var.local_root}/sleep.pid.tmp' '${var.local_root}/sleep.pid' && exec sleep 30"
  }
}
