"""The file formats: floe.yaml (FloeSpec), manifest.yaml (Manifest) and CompiledArtifacts."""
