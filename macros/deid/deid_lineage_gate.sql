{#-
    The PHI lineage gate (on-run-start): reads dbt's manifest (the `graph` context) and
    fails the invocation before anything runs when PHI can reach a protected layer
    (var deid_protected_layers: mapped, omop) without a de-identification macro.

    A model of a protected layer breaks the rule when it
      - reads a raw source (var deid_phi_sources) directly, or
      - reads a staging model that has PHI-tagged columns (meta phi) and names one of
        those columns outside a deid_* macro call, or selects * from it (which carries
        every tagged column unnamed).
    Jinja and SQL comments do not count. The only readers of tagged staging columns are
    thus the boundary models (models/mapped/deid/), whose whole body is a deid macro.
    Each finding names the column, its PHI kind and the path it takes to an omop model.
-#}
{% macro deid_lineage_gate() -%}
    {%- if not execute -%}
        {{- return('') -}}
    {%- endif -%}
    {%- set findings = deid_lineage_findings() -%}
    {%- if findings -%}
        {{ exceptions.raise_compiler_error(
            "PHI lineage gate: " ~ findings | length ~ " PHI column(s) reach a de-identified layer without a "
            ~ "deid macro; read them through the boundary models in models/mapped/deid/ instead:\n  - "
            ~ findings | join('\n  - ')
        ) }}
    {%- endif -%}
    {{- return('') -}}
{%- endmacro %}


{#- The gate's findings as one line each (empty list: the lineage is clean). -#}
{% macro deid_lineage_findings() -%}
    {%- set re = modules.re -%}
    {%- set protected = var('deid_protected_layers', ['mapped', 'omop']) -%}
    {%- set phi_sources = var('deid_phi_sources', ['synthea']) -%}
    {%- set findings = [] -%}
    {%- set children = deid_model_children() -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.fqn | length > 2 and node.fqn[1] in protected -%}
        {%- set code = deid_code_outside_deid_macros(node.raw_code) -%}
        {%- for parent_id in node.depends_on.nodes -%}
            {%- if parent_id.startswith('source.') -%}
                {%- set parent = graph.sources.get(parent_id) -%}
                {%- if parent and parent.source_name in phi_sources -%}
                    {%- do findings.append(
                        "raw source " ~ parent.source_name ~ "." ~ parent.name ~ " (all columns): "
                        ~ parent.source_name ~ "." ~ parent.name ~ " -> " ~ deid_path_to_omop(node, children)
                    ) -%}
                {%- endif -%}
            {%- elif parent_id.startswith('model.') -%}
                {%- set parent = graph.nodes.get(parent_id) -%}
                {%- if parent and parent.fqn | length > 2 and parent.fqn[1] not in protected -%}
                    {%- set tagged = deid_tagged_columns(parent) -%}
                    {%- if tagged -%}
                        {%- set path = parent.name ~ " -> " ~ deid_path_to_omop(node, children) -%}
                        {%- set star = deid_selects_star_from(code, parent.name) -%}
                        {%- for column, meta in tagged.items() -%}
                            {%- if star or re.search('(?<![A-Za-z0-9_])' ~ column ~ '(?![A-Za-z0-9_])', code) -%}
                                {%- do findings.append(
                                    parent.name ~ "." ~ column ~ " (phi: " ~ meta.phi ~ ")"
                                    ~ (" via select *" if star else "") ~ ": " ~ path
                                ) -%}
                            {%- endif -%}
                        {%- endfor -%}
                    {%- endif -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{- return(findings | sort) -}}
{%- endmacro %}


{#- A model's code with comments and {{ deid_...(...) }} calls removed. -#}
{% macro deid_code_outside_deid_macros(raw_code) -%}
    {%- set re = modules.re -%}
    {%- set code = re.sub('\\{#.*?#\\}', ' ', raw_code, flags=re.DOTALL) -%}
    {%- set code = re.sub('/\\*.*?\\*/', ' ', code, flags=re.DOTALL) -%}
    {%- set code = re.sub('--[^\\n]*', ' ', code) -%}
    {%- set code = re.sub('\\{\\{-?\\s*deid_[A-Za-z0-9_]*\\(.*?\\)\\s*-?\\}\\}', ' ', code, flags=re.DOTALL) -%}
    {{- return(code) -}}
{%- endmacro %}


{#-
    True when the code selects * from the staging model `name`: `select * from`
    its ref other than as an import CTE, or `select *`/`alias.*` from the import CTE.
-#}
{% macro deid_selects_star_from(code, name) -%}
    {%- set re = modules.re -%}
    {%- set ref_pattern = "\\{\\{-?\\s*ref\\(\\s*['\"]" ~ name ~ "['\"]\\s*\\)\\s*-?\\}\\}" -%}
    {%- set import_pattern = "([A-Za-z_][A-Za-z0-9_]*)\\s+as\\s*\\(\\s*select\\s+\\*\\s+from\\s+" ~ ref_pattern ~ "\\s*\\)" -%}
    {%- set aliases = re.findall(import_pattern, code, flags=re.IGNORECASE) -%}
    {%- set rest = re.sub(import_pattern, ' ', code, flags=re.IGNORECASE) -%}
    {%- if re.search("\\*\\s*from\\s+" ~ ref_pattern, rest, flags=re.IGNORECASE) -%}
        {{- return(true) -}}
    {%- endif -%}
    {%- for alias in aliases -%}
        {%- if re.search("\\*\\s*from\\s+" ~ alias ~ "(?![A-Za-z0-9_])", rest, flags=re.IGNORECASE)
            or re.search("(?<![A-Za-z0-9_])" ~ alias ~ "\\.\\*", rest) -%}
            {{- return(true) -}}
        {%- endif -%}
    {%- endfor -%}
    {{- return(false) -}}
{%- endmacro %}


{#- unique id -> the unique ids of the models that read it, over the whole graph. -#}
{% macro deid_model_children() -%}
    {%- set children = {} -%}
    {%- for other in graph.nodes.values() if other.resource_type == 'model' -%}
        {%- for parent_id in other.depends_on.nodes -%}
            {%- do children.setdefault(parent_id, []).append(other.unique_id) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{- return(children) -}}
{%- endmacro %}


{#- "model -> child -> ... -> omop_model": the shortest way from a model down to the omop layer. -#}
{% macro deid_path_to_omop(node, children) -%}
    {%- set paths = {node.unique_id: [node.name]} -%}
    {%- set queue = [node.unique_id] -%}
    {%- for step in range(graph.nodes | length) if queue -%}
        {%- set current = queue.pop(0) -%}
        {%- set current_node = graph.nodes[current] -%}
        {%- if current_node.fqn[1] == 'omop' -%}
            {{- return(paths[current] | join(' -> ')) -}}
        {%- endif -%}
        {%- for child in children.get(current, []) | sort if child not in paths -%}
            {%- do paths.update({child: paths[current] + [graph.nodes[child].name]}) -%}
            {%- do queue.append(child) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{- return(node.name ~ ' (no omop model reads it yet)') -}}
{%- endmacro %}
