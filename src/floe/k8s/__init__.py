"""Kubernetes security generation: ``floe k8s generate``.

From a product's compiled artifacts this package builds the namespace (Pod Security
``restricted``), a ServiceAccount with a least-privilege Role, NetworkPolicies that deny
everything except the product's declared dependencies and DNS, the compiled artifacts as a
ConfigMap, and a Job and a CronJob running ``floe run`` under a locked-down securityContext.
Secrets appear only by name (secretKeyRef), never by value.
"""
