from apps.agents.local_images import RECIPES

BUSYBOX, DESKTOP = RECIPES
