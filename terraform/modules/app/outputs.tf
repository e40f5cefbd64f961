output "nlb_dns_name" {
  description = "DNS name of the load balancer (target of the public CNAME/alias records)."
  value       = aws_lb.this.dns_name
}

output "nlb_zone_id" {
  description = "Hosted zone of the load balancer, for Route 53 alias records."
  value       = aws_lb.this.zone_id
}

output "nlb_arn_suffix" {
  description = "arn_suffix of the load balancer (CloudWatch dimension)."
  value       = aws_lb.this.arn_suffix
}

output "https_target_group_arn_suffix" {
  description = "arn_suffix of the 443 target group (CloudWatch dimension)."
  value       = aws_lb_target_group.this["https"].arn_suffix
}

output "asg_name" {
  description = "Name of the Auto Scaling group (instance refreshes, scaling)."
  value       = aws_autoscaling_group.this.name
}

output "launch_template_id" {
  description = "ID of the launch template."
  value       = aws_launch_template.this.id
}

output "instance_role_arn" {
  description = "ARN of the hosts' IAM role."
  value       = aws_iam_role.instance.arn
}

output "release_parameter_name" {
  description = "SSM parameter holding the release the hosts install at boot (deploy/aws/roll.sh sets it)."
  value       = aws_ssm_parameter.release_version.name
}

output "deployer_policy_arn" {
  description = "IAM policy with the permissions deploy/aws needs in this environment (attach to the CI role)."
  value       = aws_iam_policy.deployer.arn
}
