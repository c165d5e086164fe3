# bash completion for wasmpull (being written)
