"""The recipes: one script and one YAML config per experiment (``configs/``).

In the repository they run as scripts (``python recipes/pos_en_de.py --config ...``); installed, the
same files are the package ``xdomain_nlp.recipes`` (``xdomain-nlp train pos_en_de``).
"""
