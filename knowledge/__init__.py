"""The diagnosis core: reads ConfigMgr client logs and names the failing update stage.

Never imports Slack. The public entry points live in `knowledge.api`.
"""
