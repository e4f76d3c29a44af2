"""The course's plumbing: settings (seeds, quiet TensorFlow, run mode), the book's
glued values, pictures, claim checks, exercises with feedback, explorers.
"""
