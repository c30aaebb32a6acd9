-- The CRM stores countries as free text: normalise alpha-2, alpha-3 and English names. The age band
-- counts complete years at build time.
select customer_id, first_name, last_name, email, phone, gender,
       cast(birth_date as date) as birth_date,
       case when age < 25 then '<25' when age < 35 then '25-34' when age < 45 then '35-44'
            when age < 55 then '45-54' when age < 65 then '55-64' else '65+' end as age_band,
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
from (select *, date_sub('year', cast(birth_date as date), current_date) as age from crm_export)
