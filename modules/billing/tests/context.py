"""A project's context processor, as generated projects have one."""


def project(request):
    return {"project_name": "Acme HQ"}
