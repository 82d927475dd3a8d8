"""The learned second opinion: a linear model over the comment's words and character n-grams.

`features.py` turns a folded text into features (shared by training and scoring, so both see the
same thing); `scorer.py` scores a comment with the exported table in plain Python + one NumPy sum
(no scikit-learn at run time); `build.py` trains it with scikit-learn from the data in the repo and
writes `data/model.json.gz` with its provenance (`make models`).
"""
