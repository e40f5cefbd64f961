terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "6.25.0"
    }
  }

  # Bootstrap and override: docs/terraform.md. One key per environment;
  # use_lockfile keeps a lock object next to the state (no DynamoDB table).
  backend "s3" {
    bucket       = "easysks-terraform-state"
    key          = "easysks/staging/terraform.tfstate"
    region       = "eu-central-1"
    encrypt      = true
    use_lockfile = true
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = "easysks"
      Environment = "staging"
      ManagedBy   = "terraform"
    }
  }
}
