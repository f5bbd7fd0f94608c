variable "stage" {
  type    = string
  default = "dev"
}

variable "worker_runtime" {
  description = "Runtime of the worker function"
  type        = string
  default     = "nodejs18.x"
}
