# Everything the stack knows about this environment, as one object:
#   terraform output -json stack | jq -r .public_url
# (docs/terraform.md, Outputs). Declared once, in modules/stack/outputs.tf.
output "stack" {
  description = "The stack module's outputs (public_url, asg_name, release_bucket, ...)."
  value       = module.stack
}
