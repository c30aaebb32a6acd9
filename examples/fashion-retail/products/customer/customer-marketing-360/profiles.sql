-- The CRM stores countries as free text: normalise alpha-2, alpha-3 and English names.
select customer_id, first_name, last_name, email, phone, gender,
       cast(birth_date as date) as birth_date,
       case upper(trim(country))
           when 'FRA' then 'FR' when 'FRANCE' then 'FR'
           when 'DEU' then 'DE' when 'GERMANY' then 'DE'
           when 'ESP' then 'ES' when 'SPAIN' then 'ES'
           when 'ITA' then 'IT' when 'ITALY' then 'IT'
           when 'NLD' then 'NL' when 'NETHERLANDS' then 'NL'
           when 'BEL' then 'BE' when 'BELGIUM' then 'BE'
           when 'GBR' then 'GB' when 'UK' then 'GB'
           else upper(trim(country))
       end as country,
       cast(signup_date as date) as signup_date,
       cast(marketing_consent as boolean) as marketing_consent
from crm_export
