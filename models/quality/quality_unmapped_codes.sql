{#-
    The review list of unmapped source codes (`ehr2omop mappings export` writes
    it for Usagi or a spreadsheet): every code the events use that maps to no
    standard concept (an event code, a unit, a coded value), most frequent
    first, with

      unmapped_rows             the events that carry it
      share_of_unmapped_rows    their share of all unmapped code uses
      cumulative_share          the running share down the list (Pareto)
      is_pareto                 the code is among the most frequent ones that
                                together make up var quality_pareto_share (80%)
                                of the unmapped uses: review these first

    and up to var quality_unmapped_candidates (3) candidate standard concepts,
    one row each (no candidate: one row with NULL candidate columns), found by
    word overlap: the source description (the code itself when there is none)
    and the names of the valid standard concepts of the expected domain (the
    event's fallback domain; Unit for a unit; Meas Value, Condition or
    Observation for a value) are split into lowercase words, common words and
    bare numbers are dropped, and candidates rank by the Jaccard similarity of
    the two word sets (match_score, 0..1), then by the number of shared words,
    the shorter name and the lower id. Only concept words shared with some
    source description reach the join, in one pass over the names (no trigram
    index needed). 0 candidates skips the search.

    The mapped layer is read here (not only omop) because the review needs
    what omop does not keep: the source vocabulary and description of a code.
-#}
{%- set candidates_per_code = var('quality_unmapped_candidates', 3) | int -%}
{%- set pareto_share = var('quality_pareto_share', 0.8) -%}

with

mapped_clinical_events as (
    select * from {{ ref('mapped_clinical_events') }}
),

source_to_standard as (
    select * from {{ ref('source_to_standard') }}
),

concept as (
    select * from {{ source('vocab', 'concept') }}
),

code_uses as (
    -- every use of a code, as source_to_standard resolves them: the event's
    -- code, its unit (UCUM) and its coded value
    select
        used.source_code,
        used.source_vocabulary_id,
        used.source_description,
        used.expected_domain_id
    from mapped_clinical_events
    cross join
        lateral (
            values
            (
                mapped_clinical_events.source_code,
                mapped_clinical_events.source_vocabulary_id,
                mapped_clinical_events.source_description,
                mapped_clinical_events.fallback_domain_id
            ),
            (
                mapped_clinical_events.unit_source_value,
                'UCUM',
                cast(null as {{ dbt.type_string() }}),
                'Unit'
            ),
            (
                mapped_clinical_events.value_source_code,
                mapped_clinical_events.value_source_vocabulary_id,
                mapped_clinical_events.value_as_string,
                'Value'
            )
        ) as used (source_code, source_vocabulary_id, source_description, expected_domain_id)
    where used.source_code is not null
        and used.source_vocabulary_id is not null
),

unmapped_codes as (
    select distinct
        source_code,
        source_vocabulary_id,
        source_concept_id
    from source_to_standard
    where mapping_kind = 'unmapped'
),

source_concepts as (
    select
        concept_id,
        concept_name
    from concept
),

code_frequencies as (
    select
        code_uses.source_code,
        code_uses.source_vocabulary_id,
        coalesce(min(code_uses.source_description), min(source_concepts.concept_name)) as source_description,
        min(code_uses.expected_domain_id) as expected_domain_id,
        count(*) as unmapped_rows
    from code_uses
    inner join unmapped_codes
        on code_uses.source_code = unmapped_codes.source_code
            and code_uses.source_vocabulary_id = unmapped_codes.source_vocabulary_id
    left outer join source_concepts
        on unmapped_codes.source_concept_id = source_concepts.concept_id
            and unmapped_codes.source_concept_id != {{ fixed_concept('no_matching_concept') }}
    group by code_uses.source_code, code_uses.source_vocabulary_id
),

ranked_codes as (
    select
        *,
        row_number() over (
            order by unmapped_rows desc, source_vocabulary_id asc, source_code asc
        ) as frequency_rank,
        cast(unmapped_rows as numeric) / sum(unmapped_rows) over () as share_of_unmapped_rows,
        cast(
            sum(unmapped_rows) over (
                order by unmapped_rows desc, source_vocabulary_id asc, source_code asc
                rows between unbounded preceding and current row
            ) as numeric
        ) / sum(unmapped_rows) over () as cumulative_share
    from code_frequencies
),

pareto as (
    -- a code is in the Pareto head when the codes before it had not yet
    -- reached the share: the code that crosses the line is in
    select
        *,
        cumulative_share - share_of_unmapped_rows < {{ pareto_share }} as is_pareto
    from ranked_codes
),

expected_domains as (
    -- the domains a code's candidates may come from
    select
        pareto.source_code,
        pareto.source_vocabulary_id,
        domains.domain_id
    from pareto
    inner join
        (
            values
            ('Value', 'Meas Value'),
            ('Value', 'Condition'),
            ('Value', 'Observation')
        ) as domains (expected_domain_id, domain_id)
        on pareto.expected_domain_id = domains.expected_domain_id
    union all
    select
        source_code,
        source_vocabulary_id,
        expected_domain_id as domain_id
    from pareto
    where expected_domain_id != 'Value'
),

stop_words as (
    -- words too common to tell concepts apart, and SNOMED's semantic tags
    select word
    from (
        values
        ('a'), ('an'), ('and'), ('as'), ('at'), ('by'), ('for'), ('from'), ('in'), ('into'),
        ('is'), ('no'), ('nos'), ('not'), ('of'), ('on'), ('or'), ('other'), ('the'), ('to'),
        ('with'), ('without'), ('disorder'), ('finding'), ('procedure'), ('situation'),
        ('substance'), ('product'), ('object'), ('physical'), ('entity'), ('observable'),
        ('regime'), ('therapy'), ('qualifier'), ('value'), ('event'), ('morphologic'),
        ('abnormality'), ('code'), ('local'), ('legacy'), ('mapping'), ('unknown')
    ) as stop_words (word)
),

source_words as (
    select distinct
        pareto.source_code,
        pareto.source_vocabulary_id,
        words.word
    from pareto
    cross join
        lateral regexp_split_to_table(
            lower(coalesce(pareto.source_description, pareto.source_code)), '[^a-z0-9]+'
        ) as words (word)
    where length(words.word) >= 2
        and words.word !~ '^[0-9]+$'
        and words.word not in (select stop_words.word from stop_words)
),

source_word_counts as (
    select
        source_code,
        source_vocabulary_id,
        count(*) as word_count
    from source_words
    group by source_code, source_vocabulary_id
),

standard_concepts as (
    select
        concept_id,
        concept_name,
        domain_id,
        vocabulary_id
    from concept
    where standard_concept = 'S'
        and invalid_reason is null
        and domain_id in (select expected_domains.domain_id from expected_domains)
        -- var quality_unmapped_candidates 0: no search (a constant false, nothing is read)
        and {{ candidates_per_code }} > 0
),

concept_words as (
    select distinct
        standard_concepts.concept_id,
        words.word
    from standard_concepts
    cross join
        lateral regexp_split_to_table(lower(standard_concepts.concept_name), '[^a-z0-9]+') as words (word)
    where length(words.word) >= 2
        and words.word !~ '^[0-9]+$'
        and words.word not in (select stop_words.word from stop_words)
),

concept_word_counts as (
    select
        concept_id,
        count(*) as word_count
    from concept_words
    group by concept_id
),

shared_words as (
    -- only the words some source description has reach the join
    select
        source_words.source_code,
        source_words.source_vocabulary_id,
        concept_words.concept_id,
        count(*) as shared_word_count
    from source_words
    inner join concept_words
        on source_words.word = concept_words.word
    group by source_words.source_code, source_words.source_vocabulary_id, concept_words.concept_id
),

scored as (
    select
        shared_words.source_code,
        shared_words.source_vocabulary_id,
        standard_concepts.concept_id,
        standard_concepts.concept_name,
        standard_concepts.domain_id,
        standard_concepts.vocabulary_id,
        round(
            cast(shared_words.shared_word_count as numeric)
            / (
                source_word_counts.word_count
                + concept_word_counts.word_count
                - shared_words.shared_word_count
            ),
            4
        ) as match_score,
        shared_words.shared_word_count
    from shared_words
    inner join standard_concepts
        on shared_words.concept_id = standard_concepts.concept_id
    inner join expected_domains
        on shared_words.source_code = expected_domains.source_code
            and shared_words.source_vocabulary_id = expected_domains.source_vocabulary_id
            and standard_concepts.domain_id = expected_domains.domain_id
    inner join source_word_counts
        on shared_words.source_code = source_word_counts.source_code
            and shared_words.source_vocabulary_id = source_word_counts.source_vocabulary_id
    inner join concept_word_counts
        on shared_words.concept_id = concept_word_counts.concept_id
),

ranked_candidates as (
    select
        *,
        row_number() over (
            partition by source_code, source_vocabulary_id
            order by match_score desc, shared_word_count desc, length(concept_name) asc, concept_id asc
        ) as candidate_rank
    from scored
),

candidates as (
    select * from ranked_candidates
    where candidate_rank <= {{ candidates_per_code }}
),

final as (
    select
        pareto.frequency_rank,
        pareto.source_code,
        pareto.source_vocabulary_id,
        pareto.source_description,
        pareto.expected_domain_id,
        pareto.unmapped_rows,
        pareto.share_of_unmapped_rows,
        pareto.cumulative_share,
        pareto.is_pareto,
        candidates.candidate_rank,
        candidates.concept_id as candidate_concept_id,
        candidates.concept_name as candidate_concept_name,
        candidates.domain_id as candidate_domain_id,
        candidates.vocabulary_id as candidate_vocabulary_id,
        candidates.match_score
    from pareto
    left outer join candidates
        on pareto.source_code = candidates.source_code
            and pareto.source_vocabulary_id = candidates.source_vocabulary_id
)

select * from final
