-- How an Arrivy task names its customer: the numbers and e-mail on the task, and those of
-- the customer record it points at.
with tasks as (
    select * from {{ ref('stg_arrivy__tasks') }}
),

customers as (
    select * from {{ ref('stg_arrivy__customers') }}
),

contacts as (
    select task_id, 'phone' as contact_kind, customer_phone_e164 as contact from tasks
    union
    select task_id, 'phone', customer_mobile_number_e164 from tasks
    union
    select task_id, 'email', customer_email_normalized from tasks
    union
    select tasks.task_id, 'phone', customers.phone_e164
    from tasks inner join customers on customers.customer_id = tasks.customer_id
    union
    select tasks.task_id, 'phone', customers.mobile_number_e164
    from tasks inner join customers on customers.customer_id = tasks.customer_id
    union
    select tasks.task_id, 'email', customers.email_normalized
    from tasks inner join customers on customers.customer_id = tasks.customer_id
)

select contacts.task_id, tasks.started_at, contacts.contact_kind, contacts.contact
from contacts
inner join tasks on tasks.task_id = contacts.task_id
where contacts.contact is not null
