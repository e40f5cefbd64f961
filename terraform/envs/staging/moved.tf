# Everything moved into modules/stack (one wiring for both environments).
# A move across modules is honoured only in the root module, so each root
# keeps these; delete them from both once every state has been applied past
# them (terraform plan shows no "has moved to" line).
moved {
  from = module.network
  to   = module.stack.module.network
}

moved {
  from = module.frontend
  to   = module.stack.module.frontend
}

moved {
  from = module.secrets
  to   = module.stack.module.secrets
}

moved {
  from = module.cognito
  to   = module.stack.module.cognito
}

moved {
  from = module.database
  to   = module.stack.module.database
}

moved {
  from = module.observability
  to   = module.stack.module.observability
}

moved {
  from = module.app
  to   = module.stack.module.app
}
