# The tenant's AI endpoints on the local stack: one record per wanted model deployment (what the
# production flavour makes Azure OpenAI deployments of). Built-in resources only.
variable "tenant_slug" { type = string }
variable "region" { type = string }
variable "models" { type = map(number) } # model name -> capacity (thousands of tokens a minute)
variable "ai_api_key" {
  type      = string
  sensitive = true
}

locals {
  account = "oai-${var.tenant_slug}"
}

resource "terraform_data" "deployment" {
  for_each = var.models
  input = {
    account  = local.account
    model    = each.key
    capacity = each.value
    region   = var.region
  }
}

resource "terraform_data" "api_key" {
  input = sha256(var.ai_api_key)
}

output "ai_account_name" { value = local.account }
output "ai_endpoint" { value = "https://${local.account}.openai.local/" }
output "ai_deployments" { value = join(",", sort([for d in terraform_data.deployment : d.output.model])) }
output "ai_api_key" {
  sensitive = true
  value     = var.ai_api_key
}
