"""Regenerated tables and figure data of the LMF paper, laid beside the published numbers.

``tables`` builds Tables 1–6 and the data of Figs 1 and 4 from the run store; ``uncertainty``
adds what the paper lacks (bootstrap intervals, paired tests, spread over seeds);
``loss_analysis`` holds the numbers behind notebook 02 (losses against ``p_t`` and class size,
margins and weights, autograd checks).
"""
